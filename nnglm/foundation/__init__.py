"""The foundation: the one error a user can cause, and files and text from elsewhere read safely."""
