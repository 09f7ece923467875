"""The pure domain: value objects and decisions. Imports only the standard library and rcmedia.errors."""
