"""The operators' and editors' pages under ``/ops``: one module per page, the framework in ``pages``.

Every page needs a login (an anonymous request is sent to ``/login?next=…``) and the role its
module names; the route table in :mod:`rcmedia.web.ops.routes` is checked by a test so a page
without a check cannot be added. Pages are server-rendered (jinja2, ``templates/ops/``) with small
scripts from ``static/ops/`` that call the JSON API, as any script could; front-end libraries come
from npm at build time (``static/vendor/``), never from a CDN.

Labels are Chinese by default and English on ``?lang=en`` (remembered in a cookie):
:mod:`rcmedia.web.ops.i18n`.
"""
