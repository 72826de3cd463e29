import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LabelIndex } from '../../../runtime/train/labels.js';

test("string labels get StringIndexer's order: most frequent first, ties alphabetically; later labels take the next index", () => {
  const index = new LabelIndex('class', 4);
  index.learn(['spam', 'ham', 'ham', 'eggs', 'spam', 'bacon', 'ham']);
  assert.deepEqual(index.labels, ['ham', 'spam', 'bacon', 'eggs']);
  assert.deepEqual(index.outputLabels(), { '0': 'ham', '1': 'spam', '2': 'bacon', '3': 'eggs' });
  const binary = new LabelIndex('class', 2, ['ham']);
  binary.learn(['spam', 'spam', 'toast']);
  assert.equal(binary.encode('spam'), 1);
  assert.match(String(binary.encode('toast')), /class 3 of a 2-class model/);
});

test('labels that cannot be learned say why: missing, not a class index, not a number', () => {
  const classes = new LabelIndex('class', 2);
  assert.equal(classes.encode(1), 1);
  assert.match(String(classes.encode(undefined)), /missing/);
  assert.match(String(classes.encode(2)), /not an index in \[0, 1\]/);
  const numbers = new LabelIndex('number', 0);
  assert.equal(numbers.encode('24.5'), 24.5);
  assert.match(String(numbers.encode('many')), /not a number/);
});
