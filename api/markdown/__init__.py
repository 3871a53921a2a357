"""Markdown handling shared by import, render and export.

``importer`` splits a Jekyll file into front matter and sections and finds links,
``render`` turns a section body into sanitized HTML, ``export`` writes pages back.
"""
