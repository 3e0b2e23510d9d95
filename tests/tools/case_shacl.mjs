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
// constraints, sh:sparql). A shapes file that is an ontology (the CASE/UCO
// monolithic build, which carries its shapes) is also added to the data
// graph, as the CASE validator does, so that sh:class and sh:targetClass
// follow its rdfs:subClassOf chains; its sh:sparql constraints are left
// out (listed as "sparql_not_evaluated") and its owl:imports are not
// fetched (the monolithic file holds them). Two of those SPARQL rules that
// apply to instance data are checked here instead: a UCO node is not a
// blank node, and no facet belongs to two objects. Run through scripts/case-shacl.sh, which installs
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
  const input = new Parser({ format: 'N-Quads' }).parse(nquads);
  const SH = 'http://www.w3.org/ns/shacl#';
  const sparql = new Set();
  // plain shapes see the document alone; an ontology's shapes see the
  // document with the ontology
  const plain = factory.dataset(), onto = factory.dataset(), ontoData = factory.dataset(input);
  for (const p of shapePaths) {
    const qs = new Parser({ baseIRI: 'file://' + p }).parse(fs.readFileSync(p, 'utf8'));
    const ontology = qs.some((q) => q.predicate.value === 'http://www.w3.org/2000/01/rdf-schema#subClassOf');
    for (const q of qs) {
      if (q.predicate.value === SH + 'sparql') {
        sparql.add(q.subject.value);
        continue;
      }
      (ontology ? onto : plain).add(q);
      if (ontology)
        ontoData.add(q);
    }
  }
  const results = [];
  let triples = input.length, conformsCore = true;
  for (const [shapes, data] of [[plain, factory.dataset(input)], [onto, ontoData]]) {
    if (!shapes.size)
      continue;
    const validator = new SHACLValidator(shapes, { factory, importGraph: async () => factory.dataset() });
    const report = await validator.validate(data);
    conformsCore = conformsCore && report.conforms;
    triples = Math.max(triples, data.size);
    for (const r of report.results)
      results.push({
        focus: r.focusNode ? r.focusNode.value : null,
        path: r.path ? r.path.value : null,
        severity: r.severity ? r.severity.value.replace(SH, '') : null,
        message: r.message.map((m) => m.value).join('; '),
      });
  }
  // the instance-data SPARQL rules of UCO, when its shapes were given
  if (sparql.size) {
    const owners = new Map();
    for (const q of input) {
      if (q.subject.termType === 'BlankNode' && q.predicate.value === 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type')
        results.push({ focus: q.subject.value, path: null, severity: 'Violation', message: 'a typed node is a blank node (UCO: UcoThings are required to not be blank nodes)' });
      if (q.predicate.value === 'https://ontology.unifiedcyberontology.org/uco/core/hasFacet') {
        const o = owners.get(q.object.value) || new Set();
        o.add(q.subject.value);
        owners.set(q.object.value, o);
      }
    }
    for (const [f, o] of owners)
      if (o.size > 1)
        results.push({ focus: f, path: 'https://ontology.unifiedcyberontology.org/uco/core/hasFacet', severity: 'Violation', message: 'a facet of ' + o.size + ' objects (UCO: hasFacet must not link two objects to one facet)' });
  }
  const conforms = conformsCore && !results.some((r) => r.severity === 'Violation');
  console.log(JSON.stringify({ conforms, triples, shapes: shapePaths,
                               sparql_not_evaluated: sparql.size, results }, null, 1));
  return conforms ? 0 : 1;
}

main(process.argv.slice(2)).then((rc) => process.exit(rc), (e) => {
  console.error('case_shacl: ' + (e && e.message ? e.message : e));
  process.exit(2);
});
