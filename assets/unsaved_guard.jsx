// Keeps a flow editor's unsaved edits: while `dirty`, leaving the page (a link, reload,
// closing the tab) asks first, and every change is kept as a draft in this browser's
// localStorage, per flow, which the editor offers to restore when the flow is opened again.
import { useEffect, useRef } from "react";

const PREFIX = "millrace-draft:";

function leavesPage(anchor) {
  if (!anchor || anchor.target === "_blank" || anchor.hasAttribute("download")) return false;
  const to = new URL(anchor.href, window.location.href);
  return to.pathname !== window.location.pathname || to.search !== window.location.search;
}

export default function UnsavedGuard({ dirty, draft, flowPath, version, opened, cleared, message, onDraft }) {
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;
  const clearedRef = useRef(cleared);

  useEffect(() => {
    // Reload and closing the tab: the browser asks (it shows its own words).
    const beforeUnload = (event) => {
      if (!dirtyRef.current) return;
      event.preventDefault();
      event.returnValue = message;
    };
    // In-app links (the sidebar) change the page without unloading: ask here, before
    // the router sees the click (capture phase on the document).
    const click = (event) => {
      if (!dirtyRef.current || event.defaultPrevented || event.button !== 0) return;
      const anchor = event.target.closest && event.target.closest("a[href]");
      if (!leavesPage(anchor) || window.confirm(message)) return;
      event.preventDefault();
      event.stopImmediatePropagation();
    };
    window.addEventListener("beforeunload", beforeUnload);
    document.addEventListener("click", click, true);
    return () => {
      window.removeEventListener("beforeunload", beforeUnload);
      document.removeEventListener("click", click, true);
    };
  }, [message]);

  useEffect(() => {
    // A flow shown or opened again (`opened` counts loads): offer the draft left for it.
    if (!flowPath) return;
    const kept = window.localStorage.getItem(PREFIX + flowPath);
    if (kept && onDraft) onDraft(kept);
  }, [opened, flowPath]);

  useEffect(() => {
    if (flowPath && dirty && draft) {
      const kept = { document: draft, version, saved_at: Date.now() };
      window.localStorage.setItem(PREFIX + flowPath, JSON.stringify(kept));
    }
  }, [flowPath, dirty, draft, version]);

  useEffect(() => {
    // Saved, restored or discarded: the draft is no longer wanted.
    if (cleared !== clearedRef.current && flowPath) window.localStorage.removeItem(PREFIX + flowPath);
    clearedRef.current = cleared;
  }, [cleared, flowPath]);

  return null;
}
