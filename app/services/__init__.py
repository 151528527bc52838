"""What the app does, apart from how it is shown or reached: the engine it serves, accounts,
sessions, the catalog of flows and scripts, approvals, schedules, run tokens and the app's
tables. Imports nothing from `app.rest`, `app.views`, `app.states` or `app.pages`."""
