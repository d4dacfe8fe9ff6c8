"""Benchmark construction: LLM drafts of tasks, levels and rubrics, expert screening and revision, export."""
