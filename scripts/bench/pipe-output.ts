/**
 * What the no-model pipes write for each record: the same size as a spam-text prediction, so
 * every pipe and mlstream produce the same bytes per record.
 */
export const PLAIN_VALUE = JSON.stringify({ id: null, prediction: 'spam', probability: { ham: 0.0123456789, spam: 0.9876543211 }, model: 'pipe', version: '000000000000' });
