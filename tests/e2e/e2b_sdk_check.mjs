// e2b_sdk_check.mjs: the official E2B JS SDK (npm `e2b`, the version tests/e2e/e2b_sdk_e2e.py
// pins) driven against the project's E2B double, so the double cannot drift from what the
// service speaks. E2B_API_KEY, E2B_API_URL and E2B_SANDBOX_URL point the SDK at the double
// (the SDK reads them itself). Each step prints one JSON line {"step": ..., ...}; the Python
// side checks them and the requests the double saw. Any SDK error ends the script non-zero.
import { Sandbox, CommandExitError } from 'e2b'

const out = (o) => console.log(JSON.stringify(o))

const sbx = await Sandbox.create('base', { timeoutMs: 60_000, metadata: { owner: 'sdk-check' } })
out({ step: 'create', id: sbx.sandboxId })

const r = await sbx.commands.run('echo hello; echo warn >&2; printf "%s" "$USER"')
out({ step: 'run', stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode })

let exit = null
try {
  await sbx.commands.run('exit 3')
} catch (e) {
  if (!(e instanceof CommandExitError)) throw e
  exit = e.exitCode
}
out({ step: 'exit', exitCode: exit })

const bg = await sbx.commands.run('sleep 30', { background: true })
const killed = await sbx.commands.kill(bg.pid)
out({ step: 'kill-process', killed })

await sbx.files.write('/home/user/notes/a.txt', 'written by the SDK\n')
const text = await sbx.files.read('/home/user/notes/a.txt')
const seen = await sbx.commands.run('cat notes/a.txt')
out({ step: 'files', text, seen: seen.stdout })

const page = await Sandbox.list({ query: { metadata: { owner: 'sdk-check' } } }).nextItems()
out({ step: 'list', ids: page.map((s) => s.sandboxId), meta: page.map((s) => s.metadata) })

await sbx.setTimeout(120_000)
out({ step: 'timeout' })

const info = await sbx.getInfo()
out({ step: 'info', id: info.sandboxId, template: info.name ?? info.templateId })

out({ step: 'running', running: await sbx.isRunning() })
await sbx.kill()
out({ step: 'kill', again: await Sandbox.kill(sbx.sandboxId) })
