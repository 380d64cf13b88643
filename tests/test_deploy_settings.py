"""Production settings: the deploy check must not flag cookie transport."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def test_deploy_check_cookie_flags():
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60 + "-production-like-secret-for-the-deploy-check",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert "security.W012" not in output  # SESSION_COOKIE_SECURE
    assert "security.W016" not in output  # CSRF_COOKIE_SECURE


def test_missing_secret_key_outside_debug_named():
    env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    env["DEBUG"] = "false"

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert "SECRET_KEY is missing" in result.stderr
