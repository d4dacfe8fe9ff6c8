"""Reports for people: Markdown in the paper's table layout, a self-contained HTML page, JSON."""
