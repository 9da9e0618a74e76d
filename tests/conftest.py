from sandbox_fixtures import clocked_sandbox, receiver, sandbox  # noqa: F401  (sandbox test fixtures)
