// The Intacct Sync page as an Airflow React app plugin (react_apps, Airflow >= 3.1).
//
// The UI imports this bundle and renders the component it finds under the app's name (or
// `AirflowPlugin`), inside its own ChakraProvider: the page uses the UI's Chakra UI (a
// global, not bundled; see vite.config.ts), so its theme, light / dark mode and components
// are the UI's. Props: the route's dagId (and runId, taskId) — set on the per-DAG tab.
import { SyncPage } from "./SyncPage";

export type PluginProps = { dagId?: string; mapIndex?: string; runId?: string; taskId?: string };

const IntacctSync = ({ dagId }: PluginProps) => <SyncPage dagId={dagId} />;

// The nav entry and the DAG tab load the same URL, and a module runs once: register under the
// apps' name as well, so the second app finds the component after the UI reset AirflowPlugin.
Reflect.set(globalThis, "Intacct Sync", IntacctSync);

export default IntacctSync;
