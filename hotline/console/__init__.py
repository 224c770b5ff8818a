"""The staff console: web pages for the bureau, behind logins and roles."""
from hotline.console.setup import register

__all__ = ["register"]
