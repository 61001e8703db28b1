"""The one way arrays become pictures, for the screen and for PNG files alike (no Qt)."""
