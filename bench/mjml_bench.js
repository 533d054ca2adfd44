// Times the reference npm `mjml` compiling one MJML file in-process, node startup excluded.
// Usage: NODE_PATH=bench/work/node_modules node bench/mjml_bench.js FILE.mjml ITERATIONS
// Prints {"ms": [one time per iteration]} as JSON.
const fs = require("fs");
const mjml2html = require("mjml");

async function compile(source) {
  // mjml 5 returns a promise; mjml 4 returns the result directly.
  const result = await mjml2html(source, { validationLevel: "soft" });
  if (!result.html) throw new Error("mjml produced no HTML");
  return result;
}

async function main() {
  const [file, iterationsText] = process.argv.slice(2);
  const source = fs.readFileSync(file, "utf8");
  const iterations = Number(iterationsText || 100);
  for (let i = 0; i < 5; i++) await compile(source);
  const ms = [];
  for (let i = 0; i < iterations; i++) {
    const started = process.hrtime.bigint();
    await compile(source);
    ms.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  process.stdout.write(JSON.stringify({ ms }) + "\n");
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
