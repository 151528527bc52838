"""Millrace web app: Reflex pages, REST API and the demo API, on one port."""
