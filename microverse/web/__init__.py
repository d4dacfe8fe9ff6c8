"""The web UI (`microverse serve`): rater screens for human studies and expert benchmark building."""
