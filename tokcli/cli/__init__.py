"""The command-line layer: parse flags, call the core, render results. Nothing else lives here."""
