"""S3 storage (any S3-compatible store): the only module that imports boto3.

A package is built in a local staging folder (ffmpeg writes files), then uploaded under its new
prefix with parallel (multipart, for large files) uploads. Object stores have no rename, so the
prefix itself is the staging area: ingest names a prefix nobody has used, and nothing refers to it
until the catalog's publish switches the asset's row to it in one transaction. A crash before that
switch leaves an unreferenced prefix, which the job's next attempt (``remove_unreferenced``) and
``rcmedia storage sweep`` find and delete, exactly as for a local folder renamed into place; the
sweep also aborts multipart uploads a killed publish never completed (``abort_stale_uploads``).
A failed upload deletes what it wrote before raising.

Credentials come from the standard AWS chain (environment, shared files, instance role); the
settings hold only the endpoint and region. Every call blocks: callers on an event loop use a thread.
"""

from __future__ import annotations

import logging
import mimetypes
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.exceptions
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from rcmedia.errors import ConfigError, NotFoundError, StorageError
from rcmedia.storage.base import safe_key

log = logging.getLogger(__name__)

# Segments are 0.2–2 MB: most go up in one PUT; a source or a long fMP4 rendition goes in 8 MiB
# parts (S3's minimum is 5 MiB), several at once.
PART_BYTES = 8 * 1024 * 1024
UPLOAD_THREADS = 16  # files uploaded at once by one publish
PART_THREADS = 4  # parts of one large file uploaded at once
DELETE_BATCH = 1000  # DeleteObjects' limit
CORS_RULE_ID = "rcmedia-player"  # the bucket CORS rule `rcmedia storage cors` owns
CORS_MAX_AGE = 3600  # seconds a browser may keep the preflight's answer
# what a presigned URL's answer says it holds (the system's mime tables disagree about .ts and .m4s)
MEDIA_TYPES = {
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".aac": "audio/aac",
}


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` → (bucket, prefix without slashes at its ends)."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ConfigError(f"storage {url!r}: expected s3://bucket or s3://bucket/prefix")
    return parts.netloc, parts.path.strip("/")


class S3Storage:
    """Packages in ``bucket`` under ``root`` (keys are ``root/assets/12/…``)."""

    def __init__(
        self,
        url: str,
        *,
        staging_root: Path,
        endpoint: str = "",
        region: str = "",
        upload_threads: int = UPLOAD_THREADS,
        part_bytes: int = PART_BYTES,
    ) -> None:
        self.bucket, self.root = parse_s3_url(url)
        self.url = url
        self.staging_root = staging_root
        staging_root.mkdir(parents=True, exist_ok=True)
        compatible = bool(endpoint)  # not AWS: MinIO, Ceph, moto…
        config = Config(
            max_pool_connections=upload_threads * PART_THREADS,
            retries={"mode": "standard", "max_attempts": 5},
            signature_version="s3v4",  # presigned URLs too (botocore still signs those with V2)
            s3={"addressing_style": "path" if compatible else "auto"},
            # botocore ≥ 1.36 adds CRC checksums to every upload and checks them on reads; many
            # S3-compatible stores answer a multipart object with a checksum of another kind than
            # the client computes, and the read fails ("Expected checksum … did not match"): there,
            # only where the API requires one (AWS keeps the default).
            request_checksum_calculation="when_required" if compatible else "when_supported",
            response_checksum_validation="when_required" if compatible else "when_supported",
        )
        session = boto3.session.Session(region_name=region or None)
        self.client = session.client("s3", endpoint_url=endpoint or None, config=config)
        self.upload_threads = upload_threads
        self.transfer = TransferConfig(
            multipart_threshold=part_bytes,
            multipart_chunksize=part_bytes,
            max_concurrency=PART_THREADS,
            use_threads=True,
        )

    def __repr__(self) -> str:
        return f"S3Storage({self.url!r})"

    def _object(self, key: str) -> str:
        key = safe_key(key)
        return f"{self.root}/{key}" if self.root else key

    def _key(self, name: str) -> str:
        return name.removeprefix(f"{self.root}/") if self.root else name

    # --- staging (local disk) ----------------------------------------------------------------

    def staging_dir(self, name: str) -> Path:
        path = self.staging_root / safe_key(name)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def discard_staging(self, name: str) -> None:
        shutil.rmtree(self.staging_root / safe_key(name), ignore_errors=True)

    # --- publish, remove ---------------------------------------------------------------------

    def publish(self, staging: Path, prefix: str) -> None:
        base = self._object(prefix)
        if self._any_under(base):
            raise StorageError(f"storage prefix {prefix!r} is already taken")
        files = sorted(path for path in staging.rglob("*") if path.is_file())
        uploads = [(path, f"{base}/{path.relative_to(staging).as_posix()}") for path in files]
        try:
            with ThreadPoolExecutor(max_workers=self.upload_threads, thread_name_prefix="s3-put") as pool:
                for _ in pool.map(lambda upload: self._upload(*upload), uploads):
                    pass
        except BaseException:
            try:
                self.remove(prefix)  # nobody refers to the prefix yet: leave nothing of it
            except StorageError as exc:
                log.warning("cannot delete the partly uploaded %s: %s", prefix, exc)
            raise
        shutil.rmtree(staging, ignore_errors=True)

    def _upload(self, path: Path, name: str) -> None:
        media_type = MEDIA_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
        try:
            self.client.upload_file(
                str(path),
                self.bucket,
                name,
                ExtraArgs={"ContentType": media_type or "application/octet-stream"},
                Config=self.transfer,
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise StorageError(f"cannot upload {self._key(name)!r}: {_reason(exc, self.bucket)}") from exc
        except boto3.exceptions.S3UploadFailedError as exc:
            raise StorageError(f"cannot upload {self._key(name)!r}: {exc}") from exc

    def put_file(self, path: Path, key: str) -> None:
        self._upload(path, self._object(key))

    def fetch_file(self, key: str, target: Path) -> None:
        name = self._object(key)
        try:
            self.client.download_file(self.bucket, name, str(target), Config=self.transfer)
        except botocore.exceptions.ClientError as exc:
            target.unlink(missing_ok=True)
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                raise NotFoundError("stored file", key) from exc
            raise StorageError(f"cannot download {key!r}: {_reason(exc, self.bucket)}") from exc
        except botocore.exceptions.BotoCoreError as exc:
            target.unlink(missing_ok=True)
            raise StorageError(f"cannot download {key!r}: {_reason(exc, self.bucket)}") from exc

    def remove(self, prefix: str) -> None:
        base = self._object(prefix)
        names = [base, *self._names_under(base)]
        for start in range(0, len(names), DELETE_BATCH):
            batch = [{"Key": name} for name in names[start : start + DELETE_BATCH]]
            try:
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
                raise StorageError(f"cannot remove {prefix!r}: {_reason(exc, self.bucket)}") from exc
            if errors := answer.get("Errors"):
                first = errors[0]
                raise StorageError(
                    f"cannot remove {prefix!r}: {len(errors)} objects refused, first "
                    f"{self._key(first.get('Key', '?'))!r}: {first.get('Message', first.get('Code'))}"
                )

    def abort_stale_uploads(self, parent: str, *, before: datetime) -> list[str]:
        """Abort the multipart uploads under ``parent`` started before ``before``; their keys.

        A publish killed in the middle of a large file leaves a multipart upload that was never
        completed: no object, so no listing shows it and ``remove`` cannot delete it, but the store
        keeps (and bills) its parts until it is aborted.
        """
        base = self._object(parent)
        aborted = []
        try:
            paginator = self.client.get_paginator("list_multipart_uploads")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{base}/"):
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] < before:
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        aborted.append(self._key(upload["Key"]))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise StorageError(
                f"cannot abort unfinished uploads under {parent!r}: {_reason(exc, self.bucket)}"
            ) from exc
        return aborted

    # --- listing, reading --------------------------------------------------------------------

    def list_prefixes(self, parent: str) -> list[str]:
        base = self._object(parent)
        parent = safe_key(parent)
        children: set[str] = set()
        for page in self._pages(Prefix=f"{base}/", Delimiter="/"):
            names = [p["Prefix"].rstrip("/") for p in page.get("CommonPrefixes", [])]
            names += [item["Key"] for item in page.get("Contents", [])]
            for name in names:
                child = PurePosixPath(name).name
                if child and not child.startswith("."):
                    children.add(f"{parent}/{child}")
        return sorted(children)

    def modified(self, prefix: str) -> datetime | None:
        base = self._object(prefix)
        times = [
            item["LastModified"]
            for page in self._pages(Prefix=f"{base}/")
            for item in page.get("Contents", [])
        ]
        return max(times) if times else None

    def check_reachable(self) -> str | None:
        """``GET /readyz``: the bucket answers (HeadBucket) with these credentials."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise StorageError(
                f"bucket {self.bucket!r} is not reachable: {_reason(exc, self.bucket)}"
            ) from exc
        return f"s3://{self.bucket}"

    # --- CORS: the web player follows redirects to the bucket ----------------------------------

    def cors_allows(self, origin: str) -> bool:
        """Whether the bucket's CORS rules let a page on ``origin`` GET its objects (hls.js fetches
        segments with XHR: after the origin's 307 to a presigned URL, the browser asks the bucket)."""
        return any(
            "GET" in rule.get("AllowedMethods", ())
            and any(allowed in ("*", origin) for allowed in rule.get("AllowedOrigins", ()))
            for rule in self._cors_rules()
        )

    def allow_cors(self, origin: str) -> None:
        """Add (or replace) rcmedia's CORS rule: GET and HEAD from ``origin``; other rules are kept."""
        rules = [rule for rule in self._cors_rules() if rule.get("ID") != CORS_RULE_ID]
        rules.append(
            {
                "ID": CORS_RULE_ID,
                "AllowedOrigins": [origin],
                "AllowedMethods": ["GET", "HEAD"],
                "AllowedHeaders": ["*"],  # hls.js may send Range
                "ExposeHeaders": ["Content-Length", "Content-Range", "ETag"],
                "MaxAgeSeconds": CORS_MAX_AGE,
            }
        )
        try:
            self.client.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": rules})
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise StorageError(
                f"cannot set the CORS rules of {self.bucket!r}: {_reason(exc, self.bucket)}"
            ) from exc

    def _cors_rules(self) -> list[dict[str, Any]]:
        try:
            answer = self.client.get_bucket_cors(Bucket=self.bucket)
        except botocore.exceptions.ClientError as exc:
            if _code(exc) == "NoSuchCORSConfiguration":
                return []
            raise StorageError(
                f"cannot read the CORS rules of {self.bucket!r}: {_reason(exc, self.bucket)}"
            ) from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise StorageError(
                f"cannot read the CORS rules of {self.bucket!r}: {_reason(exc, self.bucket)}"
            ) from exc
        rules: list[dict[str, Any]] = answer.get("CORSRules", [])
        return rules

    def exists(self, key: str) -> bool:
        try:
            name = self._object(key)
        except PermissionError:  # UnsafePathError: nothing outside the store exists
            return False
        try:
            # a one-byte GET, not a HEAD: a HEAD's error has no body, and "no such bucket" (a
            # storage fault) must not read as "no such file" (which puts the slate on air)
            self.client.get_object(Bucket=self.bucket, Key=name, Range="bytes=0-0")["Body"].close()
        except botocore.exceptions.ClientError as exc:
            code = _code(exc)
            if code == "InvalidRange":  # an empty object
                return True
            if code in ("NoSuchKey", "404"):
                return False
            raise StorageError(f"cannot look up {key!r}: {_reason(exc, self.bucket)}") from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise StorageError(f"cannot look up {key!r}: {_reason(exc, self.bucket)}") from exc
        return True

    def read_bytes(self, key: str) -> bytes:
        name = self._object(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=name)
            data: bytes = answer["Body"].read()
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise StorageError(f"cannot read {key!r}: {_reason(exc, self.bucket)}") from exc
        return data

    def local_path(self, key: str) -> Path | None:
        self._object(key)  # refuse a key leaving the store, as local storage does
        return None

    def presigned_url(self, key: str, expires_seconds: int) -> str:
        """A URL any HTTP client can GET ``key`` from for ``expires_seconds`` (computed locally)."""
        try:
            url: str = self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self._object(key)},
                ExpiresIn=expires_seconds,
            )
        except botocore.exceptions.BotoCoreError as exc:
            raise StorageError(f"cannot sign a URL for {key!r}: {_reason(exc, self.bucket)}") from exc
        return url

    def _any_under(self, base: str) -> bool:
        for page in self._pages(Prefix=f"{base}/", MaxKeys=1):
            if page.get("KeyCount", 0):
                return True
            break
        try:
            self.client.head_object(Bucket=self.bucket, Key=base)
        except botocore.exceptions.ClientError as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageError(f"cannot look up {self._key(base)!r}: {_reason(exc, self.bucket)}") from exc
        return True

    def _names_under(self, base: str) -> list[str]:
        return [item["Key"] for page in self._pages(Prefix=f"{base}/") for item in page.get("Contents", [])]

    def _pages(self, **params: Any) -> Iterator[dict[str, Any]]:
        where = self._key(str(params["Prefix"]).rstrip("/")) or "/"
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            yield from paginator.paginate(Bucket=self.bucket, **params)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise StorageError(f"cannot list {where!r}: {_reason(exc, self.bucket)}") from exc


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


_DENIED = ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch")


def _reason(exc: Exception, bucket: str) -> str:
    """What went wrong, in words an operator acts on."""
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return "no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials)"
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return f"cannot reach the S3 endpoint ({exc}); check s3_endpoint"
    if not isinstance(exc, botocore.exceptions.ClientError):
        return str(exc)
    code = _code(exc)
    known = {
        "404": "not in storage",
        "NoSuchKey": "not in storage",
        "NoSuchBucket": f"bucket {bucket!r} does not exist",
        **dict.fromkeys(
            _DENIED, f"access denied to bucket {bucket!r} ({code}): check the credentials and policy"
        ),
    }
    if code in known:
        return known[code]
    message = exc.response.get("Error", {}).get("Message", "")
    return f"{code}: {message}" if message else code or str(exc)
