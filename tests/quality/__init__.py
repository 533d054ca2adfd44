"""Quality checks of the built email and blog; see README.md in this folder."""
