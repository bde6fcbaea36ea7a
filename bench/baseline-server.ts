// The floor: a bare express app that parses the same hook request JSON and returns a fixed small card.
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '1mb' }));
const CARD = {
  cards: [
    {
      uuid: '4a6a9d76-8a2f-4d1a-9c1e-0f1f3b6c7d01',
      summary: 'Warfarin 5 mg daily suggested',
      indicator: 'info',
      source: { label: 'baseline' },
    },
  ],
};
app.post('/cds-services/:id', (req, res) => {
  // touch the body so the parse cannot be skipped
  res.json(typeof req.body?.hook === 'string' ? CARD : { cards: [] });
});
app.get('/readyz', (_req, res) => {
  res.json({ status: 'ready' });
});
const server = app.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`${JSON.stringify({ ready: true, port: typeof a === 'object' && a ? a.port : 0 })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
