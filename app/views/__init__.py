"""Pure helpers behind pages: engine records as rows of strings, flow documents as a
canvas, the step panel as form rows, previews, drafts and version diffs. Used by
`app.states`; they import `app.services` at most, never states or pages."""
