// Render every math span given on stdin (JSON: [{"tex": "...", "display": bool}, ...]) with KaTeX,
// throwOnError: true, all in this one process. Prints JSON: [{"index": n, "error": "..."}] for failures.
import katex from "katex";

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const spans = JSON.parse(input);
  const failures = [];
  spans.forEach((span, index) => {
    try {
      katex.renderToString(span.tex, { displayMode: span.display, throwOnError: true, strict: "ignore" });
    } catch (error) {
      failures.push({ index, error: String(error.message) });
    }
  });
  process.stdout.write(JSON.stringify(failures));
});
