"""Keep the chosen framework's files, write the git-ignored .env, print the next steps."""

import json
import secrets
import shutil
import sys
from pathlib import Path

ANSWERS = json.loads({{ cookiecutter | jsonify | tojson }})

ROOT = Path.cwd()
SLUG = ANSWERS["project_slug"]
FRAMEWORK = ANSWERS["framework"]

ONLY = {
    "fastapi": [f"{SLUG}/app.py", f"{SLUG}/auth.py", f"{SLUG}/handlers.py"],
    "django": [
        "manage.py", f"{SLUG}/settings.py", f"{SLUG}/urls.py", f"{SLUG}/context.py",
        f"{SLUG}/wsgi.py", "shop",
    ],
}


def main() -> None:
    other = "django" if FRAMEWORK == "fastapi" else "fastapi"
    for relative in ONLY[other]:
        path = ROOT / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    package = ROOT / SLUG
    shutil.rmtree(package / f"templates_{other}")
    templates = package / "templates"
    (package / f"templates_{FRAMEWORK}").rename(templates)
    if not ANSWERS["account_page"]:
        # stripekit still serves /stripe/account; the layout just does not link it.
        base = templates / "base.html"
        link = '<a href="/stripe/account" id="account-link">Account</a>'
        base.write_text(base.read_text(encoding="utf-8").replace(link, ""), encoding="utf-8")
    # The emulator's defaults, with a webhook secret of this project's own. .env is
    # git-ignored: it is the one place a real key will go later.
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    env = example.replace(
        "# Copy to .env (git-ignored) and fill in. Nothing secret belongs in this file.",
        "# This project's settings: git-ignored, so real keys go here (see .env.example).\n"
        "# Until then: the local emulator's defaults.",
        1,
    )
    env = env.replace("STRIPE_SECRET_KEY=", "STRIPE_SECRET_KEY=sk_test_emulator", 1)
    env = env.replace("STRIPE_PUBLISHABLE_KEY=", "STRIPE_PUBLISHABLE_KEY=pk_test_emulator", 1)
    env = env.replace("STRIPE_WEBHOOK_SECRET=", f"STRIPE_WEBHOOK_SECRET=whsec_{secrets.token_hex(16)}", 1)
    env = env.replace("# STRIPE_API_BASE=", "STRIPE_API_BASE=", 1)
    if FRAMEWORK == "fastapi":
        # The key the stand-in sign-in's session cookie is signed with.
        env = env.replace("SESSION_SECRET=\n", f"SESSION_SECRET={secrets.token_urlsafe(32)}\n", 1)
    if FRAMEWORK == "django":
        # On this machine: DEBUG on, its own secret key, local hosts only.
        env = env.replace("DJANGO_DEBUG=\n", "DJANGO_DEBUG=1\n", 1)
        env = env.replace("DJANGO_SECRET_KEY=\n", f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n", 1)
        env = env.replace("DJANGO_ALLOWED_HOSTS=shop.example\n", "DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost\n", 1)
        env = env.replace(
            "DJANGO_CSRF_TRUSTED_ORIGINS=https://shop.example\n", "DJANGO_CSRF_TRUSTED_ORIGINS=\n", 1
        )
    (ROOT / ".env").write_text(env, encoding="utf-8")
    print(
        f"\n{ANSWERS['project_name']} is ready in {ROOT}\n\n"
        f"  cd {ROOT.name}\n"
        "  python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]'\n"
        f"  .venv/bin/python -m {SLUG}          # the shop and the Stripe emulator: http://127.0.0.1:8000/\n"
        "  .venv/bin/pytest                    # its tests\n\n"
        "Going live: README.md says how (every setting is in .env; .env.example documents them).\n",
        file=sys.stdout,
    )


if __name__ == "__main__":
    main()
