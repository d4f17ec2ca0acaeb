"""Package metadata: the SDK, the self-hosted server and leancloud.ndb ship as one distribution."""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "leancloud" / "_version.py").read_text(), re.M
).group(1)

setup(
    name="leancloud",
    version=VERSION,
    description=(
        "Drop-in replacement for the LeanCloud Python SDK, with a self-hosted "
        "LeanCloud-compatible server and an App Engine NDB-style model API"
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    packages=find_packages(include=["leancloud", "leancloud.*"]),
    package_data={"leancloud": ["py.typed"]},
    install_requires=[
        "requests>=2.31",
        "werkzeug>=3.0",
        "iso8601>=1.0",
        "itsdangerous>=2.0",
    ],
    extras_require={
        # Optional server features; without them the server runs and answers the rest.
        "server": ["captcha>=0.5"],  # requestCaptcha's images (brings Pillow)
        "test": [
            "pytest>=7",
            "responses>=0.23",
            "hypothesis>=6",
            "flask>=2.2",
            "captcha>=0.5",
            "pymongo>=4",
        ],
        "bson": ["pymongo>=4"],  # leancloud import of BSON backups: pymongo's bson module
        "lint": ["ruff>=0.4"],
    },
    entry_points={"console_scripts": ["leancloud = leancloud.__main__:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Typing :: Typed",
    ],
)
