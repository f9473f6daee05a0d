"""The figures: each declares the sweep cells it draws and renders them into a PNG (headless)."""
