"""`rapport staff create` prints a one-time set-password link that works in the browser."""

from __future__ import annotations

from typer.testing import CliRunner

from rapport.cli.main import app
from tests.access.conftest import PASSWORD, Site, csrf_of

runner = CliRunner()


def test_staff_create_prints_a_working_set_password_link(site: Site) -> None:
    env = {"RAPPORT_DATABASE_URL": site.store.settings.database_url}
    result = runner.invoke(app, ["staff", "create", "New@Firm.example", "--role", "analyst"], env=env)
    assert result.exit_code == 0, result.output
    link = result.stdout.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8000/staff/set-password/")
    client = site.client()
    path = link.removeprefix("http://127.0.0.1:8000")
    token = csrf_of(client.get(path).text)
    assert client.post(path, data={"password": PASSWORD, "csrf_token": token}).status_code == 200
    again = runner.invoke(app, ["staff", "create", "new@firm.example", "--role", "agent"], env=env)
    assert again.exit_code == 2 and "exists already" in again.stderr
    bad = runner.invoke(app, ["staff", "create", "x@firm.example", "--role", "owner"], env=env)
    assert bad.exit_code == 2 and "Unknown role" in bad.stderr
    listed = runner.invoke(app, ["staff", "list"], env=env)
    assert "new@firm.example" in listed.stdout and "analyst" in listed.stdout
