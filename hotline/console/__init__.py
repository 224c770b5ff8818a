"""The staff console: web pages for the bureau, behind logins and roles."""
from .setup import register

__all__ = ["register"]
