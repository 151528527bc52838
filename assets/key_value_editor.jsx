// A free-form object's entries as rows of a key and a value (see components/key_value.py).
//
// The rows live in this component's state, so typing costs no round trip; each change is
// sent as text (a JSON list of [key, value] pairs) through `onChange`, and, inside a form,
// kept in a hidden input named `name`. A `value` coming back from the server that this
// component sent itself is an echo and is ignored: applying an older echo while the user
// types on would undo their last keys.
import React, { useEffect, useRef, useState } from "react";

function rowsOf(text) {
  try {
    const rows = JSON.parse(text || "[]");
    return Array.isArray(rows) ? rows.map((row) => [String(row[0] ?? ""), String(row[1] ?? "")]) : [];
  } catch (error) {
    return [];
  }
}

const BOX = {
  height: 32, boxSizing: "border-box", border: "1px solid var(--gray-a7)", borderRadius: "var(--radius-2)",
  padding: "0 8px", fontSize: "var(--font-size-2)", background: "var(--color-surface)", color: "inherit", minWidth: 0,
};
const BUTTON = { ...BOX, cursor: "pointer", background: "var(--gray-a3)", padding: "0 10px" };

export default function KeyValueEditor({ name, value, defaultValue, onChange, ...rest }) {
  const given = value !== undefined && value !== null;
  const [rows, setRows] = useState(() => rowsOf(given ? value : defaultValue));
  const sent = useRef(new Set());

  useEffect(() => {
    if (!given || sent.current.has(value)) return;
    setRows(rowsOf(value));
  }, [value]); // eslint-disable-line react-hooks/exhaustive-deps

  const update = (next) => {
    setRows(next);
    const text = JSON.stringify(next);
    if (sent.current.size > 500) sent.current.clear();
    sent.current.add(text);
    if (onChange) onChange(text);
  };
  const edit = (index, part, text) => update(rows.map((row, i) => (i === index ? (part === 0 ? [text, row[1]] : [row[0], text]) : row)));

  return (
    <div style={{ display: "flex", flexDirection: "column", gap: 6, width: "100%" }} data-key-value="" {...rest}>
      {rows.map((row, index) => (
        <div key={index} style={{ display: "flex", gap: 6 }} data-kv-row={index}>
          <input style={{ ...BOX, flex: 1 }} placeholder="key" value={row[0]} aria-label="key"
                 data-kv-key={index} onChange={(event) => edit(index, 0, event.target.value)} />
          <input style={{ ...BOX, flex: 2 }} placeholder="value" value={row[1]} aria-label="value"
                 data-kv-value={index} onChange={(event) => edit(index, 1, event.target.value)} />
          <button type="button" style={BUTTON} aria-label="remove entry" data-kv-remove={index}
                  onClick={() => update(rows.filter((_, i) => i !== index))}>×</button>
        </div>
      ))}
      <div>
        <button type="button" style={BUTTON} data-kv-add="" onClick={() => update([...rows, ["", ""]])}>Add entry</button>
      </div>
      {name ? <input type="hidden" name={name} value={JSON.stringify(rows)} /> : null}
    </div>
  );
}
