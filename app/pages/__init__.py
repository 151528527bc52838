"""One page per module (a function of states and components); `layout` is the app's page
frame and `index` the table of every page; routes live in `app/routes.py`."""
