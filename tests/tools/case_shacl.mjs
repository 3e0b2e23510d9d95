// Validate a case.jsonld (CASE/UCO JSON-LD) against SHACL shapes, offline.
//
// usage: node case_shacl.mjs DATA.jsonld SHAPES.ttl [SHAPES.ttl...]
//
// The JSON-LD must carry its @context inline (case.jsonld does): no remote
// context is fetched. Prints one JSON document: conforms, the number of
// triples, and each result (focus node, path, severity, message). Exit 0:
// conforms; 1: does not; 2: could not run.
//
// Validator: rdf-validate-shacl (npm; SHACL Core: it does not run SPARQL-based
// constraints, sh:sparql). Run through scripts/case-shacl.sh, which installs
// it. See docs/exhibit-schedule.md for what the CASE/UCO shapes are and why
// they are not in this repository.
import fs from 'node:fs';
import jsonld from 'jsonld';
import { Parser } from 'n3';
import SHACLValidator from 'rdf-validate-shacl';
import factory from '@zazuko/env-node';

async function main(argv) {
  if (argv.length < 2) {
    console.error('usage: node case_shacl.mjs DATA.jsonld SHAPES.ttl [SHAPES.ttl...]');
    return 2;
  }
  const [dataPath, ...shapePaths] = argv;
  const doc = JSON.parse(fs.readFileSync(dataPath, 'utf8'));
  const nquads = await jsonld.toRDF(doc, {
    format: 'application/n-quads',
    documentLoader: async (url) => { throw new Error('no remote context may be loaded: ' + url); },
  });
  const data = factory.dataset(new Parser({ format: 'N-Quads' }).parse(nquads));
  const shapes = factory.dataset();
  for (const p of shapePaths)
    for (const q of new Parser({ baseIRI: 'file://' + p }).parse(fs.readFileSync(p, 'utf8')))
      shapes.add(q);
  const validator = new SHACLValidator(shapes, { factory });
  const report = await validator.validate(data);
  const results = report.results.map((r) => ({
    focus: r.focusNode ? r.focusNode.value : null,
    path: r.path ? r.path.value : null,
    severity: r.severity ? r.severity.value.replace('http://www.w3.org/ns/shacl#', '') : null,
    message: r.message.map((m) => m.value).join('; '),
  }));
  console.log(JSON.stringify({ conforms: report.conforms, triples: data.size, shapes: shapePaths, results }, null, 1));
  return report.conforms ? 0 : 1;
}

main(process.argv.slice(2)).then((rc) => process.exit(rc), (e) => {
  console.error('case_shacl: ' + (e && e.message ? e.message : e));
  process.exit(2);
});
