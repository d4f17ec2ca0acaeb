"""The one place the package version is written; setup.py reads it from here."""
__version__ = "4.0.0.dev0"
