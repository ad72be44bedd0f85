"""Renderings shared by the plugin and the CLI: failure text, tables, verdict lines."""
