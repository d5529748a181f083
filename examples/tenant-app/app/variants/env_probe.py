"""Not broken: an app that looks at the environment it was started with.

A worker runs the code of the pull request under test, so it must see only what a ``run:`` step
of the job would see: the app's own variables (``DATABASE_URL`` …), not the runner's credentials
(``ACTIONS_RUNTIME_TOKEN``, the OIDC request token), the action's inputs (``INPUT_*``, which hold
its token and DSN), nor the step's command files (``GITHUB_STATE``, ``GITHUB_OUTPUT`` …).

On import it writes the *names* of the variables it sees (never their values), one per line, to
the file named by ``ENV_PROBE_FILE``, so a test can check what reached the worker.
"""
import os

from app.factory import make_app

_target = os.environ.get("ENV_PROBE_FILE")
if _target:
    with open(_target, "w", encoding="utf-8") as fh:
        fh.write("\n".join(sorted(os.environ)) + "\n")

celery_app = make_app()
