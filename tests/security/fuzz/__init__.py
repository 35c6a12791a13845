"""atheris harnesses, run by hand (see SECURITY.md, "How the claims are tested")."""
