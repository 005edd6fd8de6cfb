"""archive pages (being built)."""

from flask import Blueprint

bp = Blueprint("archive", __name__)
