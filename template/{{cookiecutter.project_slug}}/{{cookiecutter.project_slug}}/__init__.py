"""{{ cookiecutter.project_name }}."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOP_NAME = {{ cookiecutter.project_name | tojson }}


def load_env() -> None:
    """Settings from .env, under what the environment already says."""
    from dotenv import load_dotenv  # comes with stripekit (pydantic-settings)

    load_dotenv(ROOT / ".env", override=False)
