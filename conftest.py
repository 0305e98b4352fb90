"""Root pytest configuration: shared fixture plugins for every test folder."""

pytest_plugins = ["tests.clock", "tests.fixtures_db", "tests.fixtures_knowledge"]
