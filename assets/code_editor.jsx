// CodeMirror, loaded only when first shown: the editor page draws its canvas without
// waiting for the code editor's (large) bundle. `language` picks the syntax highlighting.
import React, { Suspense, lazy, useEffect, useState } from "react";

const CodeMirror = lazy(() => import("@uiw/react-codemirror"));

const LANGUAGES = {
  python3: () => import("@codemirror/lang-python").then((m) => [m.python()]),
  bun: () => import("@codemirror/lang-javascript").then((m) => [m.javascript({ typescript: true })]),
  bash: () => Promise.all([import("@codemirror/language"), import("@codemirror/legacy-modes/mode/shell")])
    .then(([language, mode]) => [language.StreamLanguage.define(mode.shell)]),
};

// Completion lists and hints hang from the page's body: inside the editor they were cut
// by the step panel that scrolls around it.
const TOOLTIPS = () => import("@codemirror/view").then((m) => [m.tooltips({ parent: document.body })]);

function useExtensions(language) {
  const [extensions, setExtensions] = useState([]);
  useEffect(() => {
    let live = true;
    const load = LANGUAGES[language] || (() => Promise.resolve([]));
    Promise.all([load(), TOOLTIPS()]).then(([found, tips]) => live && setExtensions([...found, ...tips]));
    return () => { live = false; };
  }, [language]);
  return extensions;
}

export default function CodeEditor({ value, language, onChange, height }) {
  const extensions = useExtensions(language);
  return (
    <Suspense fallback={<pre style={{ height, margin: 0, padding: 8, fontSize: 13 }}>{value}</pre>}>
      <CodeMirror value={value} height={height} extensions={extensions} onChange={onChange}
                  basicSetup={{ foldGutter: false }} />
    </Suspense>
  );
}
