"""The README's quick start works as written against a real server."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quickstart_script_prints_what_the_readme_says(leancloud_clean_server):
    server = leancloud_clean_server
    env = {
        **os.environ,
        "LEANCLOUD_API_SERVER": server.url,
        "LEANCLOUD_APP_ID": server.app_id,
        "LEANCLOUD_APP_KEY": server.app_key,
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    expected = "Found: Buy milk (done: False)"
    assert result.stdout.strip() == expected
    assert expected in (ROOT / "README.md").read_text(encoding="utf-8")
