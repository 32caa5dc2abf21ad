"""The built-in procedural sound world."""
