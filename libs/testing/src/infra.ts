import { startFerretDb, type RunningMongo } from './ferretdb';
import { startNatsServer, type RunningNats } from './nats-server';

/** Real NATS: the one in NATS_URL, or a private server started for the caller. */
export async function useNats(): Promise<RunningNats> {
  const url = process.env.NATS_URL;
  if (url) return { url, stop: () => Promise.resolve() };
  return startNatsServer();
}

/** Real MongoDB wire protocol: the one in MONGODB_URI, or a private FerretDB started for the caller. */
export async function useMongo(): Promise<RunningMongo> {
  const uri = process.env.MONGODB_URI;
  if (uri) return { uri, stop: () => Promise.resolve() };
  return startFerretDb();
}
