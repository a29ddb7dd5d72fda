// Read a CKL or CKLB with STIG Manager's own parser and print what it imports, as JSON.
// Usage: node smc-parse.mjs FILE.ckl|FILE.cklb
import { readFileSync } from 'node:fs'
import { reviewsFromCkl, reviewsFromCklb } from '@nuwcdivnpt/stig-manager-client-modules'

const file = process.argv[2]
const data = readFileSync(file, 'utf8')
const importOptions = {
  autoStatus: 'saved', unreviewed: 'always', unreviewedCommented: 'notchecked',
  emptyDetail: 'import', emptyComment: 'import', allowCustom: true,
}
const fieldSettings = {
  detail: { enabled: 'always', required: 'optional' },
  comment: { enabled: 'always', required: 'optional' },
}
const parse = file.endsWith('.cklb') ? reviewsFromCklb : reviewsFromCkl
try {
  const r = parse({ data, importOptions, fieldSettings, allowAccept: true, sourceRef: file })
  const out = {
    target: { name: r.target.name, ip: r.target.ip, fqdn: r.target.fqdn, mac: r.target.mac },
    checklists: r.checklists.map(c => ({
      benchmarkId: c.benchmarkId, revisionStr: c.revisionStr, stats: c.stats,
      reviews: c.reviews.map(v => ({ ruleId: v.ruleId, result: v.result, detail: v.detail,
                                     comment: v.comment, resultEngine: v.resultEngine ?? null })),
    })),
  }
  process.stdout.write(JSON.stringify(out))
} catch (e) {
  process.stdout.write(JSON.stringify({ error: String(e?.message ?? e) }))
  process.exitCode = 3
}
