"""The HTTP endpoints served beside the pages (`/api/...`): Windmill-shaped REST, logging in
and out, the demo API. They reach data through `app.services`, never through pages or states."""
