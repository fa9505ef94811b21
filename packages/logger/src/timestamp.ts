// The research (peers-and-speed §3) measured toISOString at ~370 ns and a
// per-second cache plus a millisecond table at ~44 ns whatever the log rate, so
// the second part of the stamp is formatted once per second and the
// milliseconds come from a table.
const MS: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));

let cachedSecond = Number.NaN;
let cachedPrefix = "";

function pad2(n: number): string {
  return n < 10 ? "0" + n : "" + n;
}

function pad4(n: number): string {
  if (n >= 1000) return "" + n;
  if (n >= 0) return String(n).padStart(4, "0");
  return "-" + String(-n).padStart(4, "0");
}

/**
 * `YYYY-MM-DD HH:mm:ss.SSS` in local time, always 23 characters for years 0–9999.
 * Local time is re-read once per second, so a time-zone or DST change shows up
 * within a second.
 */
export function stampOf(time: number): string {
  const second = Math.floor(time / 1000);
  if (second !== cachedSecond) {
    const d = new Date(second * 1000);
    cachedPrefix =
      pad4(d.getFullYear()) +
      "-" +
      pad2(d.getMonth() + 1) +
      "-" +
      pad2(d.getDate()) +
      " " +
      pad2(d.getHours()) +
      ":" +
      pad2(d.getMinutes()) +
      ":" +
      pad2(d.getSeconds()) +
      ".";
    cachedSecond = second;
  }
  return cachedPrefix + (MS[time - second * 1000] as string); // index is 0..999 for an integer time
}

/**
 * The text sink's stamp, `YYYY-MM-DD HH:mm:ss.SSS` in local time, for epoch
 * milliseconds or a Date (fractions of a ms are cut). Never throws: a time that is
 * not a valid date gives the 23-character placeholder `????-??-?? ??:??:??.???`.
 * @example formatTimestamp(Date.now()) // "2025-04-26 19:47:00.801"
 */
export function formatTimestamp(time: Date | number): string {
  const t = typeof time === "number" ? time : time instanceof Date ? time.getTime() : Number.NaN;
  if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) return "????-??-?? ??:??:??.???";
  return stampOf(Math.trunc(t)); // as Date does (TimeClip truncates)
}
