import * as vscode from 'vscode';
import { expandPythonSetting, venvInterpreter } from '../../engine/python/interpreter';

/**
 * Which Python runs the user's function: the `poolscope.pythonPath` setting; else the Python
 * extension's active environment for the file (its public API); else a virtual environment in
 * the workspace folder (.venv, venv, env); else undefined, and the engine looks for python3 /
 * python on PATH.
 */
export async function resolvePythonPath(resource: vscode.Uri | undefined): Promise<{ path?: string; source: string }> {
	const configured = vscode.workspace.getConfiguration('poolscope', resource).get<string>('pythonPath', '').trim();
	const folder = resource ? vscode.workspace.getWorkspaceFolder(resource) : vscode.workspace.workspaceFolders?.[0];
	if (configured) {
		return { path: expandPythonSetting(configured, folder?.uri.fsPath), source: 'setting poolscope.pythonPath' };
	}
	const fromExtension = await pythonExtensionEnvironment(resource);
	if (fromExtension) {
		return { path: fromExtension, source: 'the Python extension\'s active environment' };
	}
	// Without the Python extension, the project's own virtual environment: its packages are there.
	const venv = folder ? venvInterpreter(folder.uri.fsPath) : undefined;
	if (venv) {
		return { path: venv, source: `the workspace's virtual environment (${vscode.workspace.asRelativePath(venv)})` };
	}
	return { source: 'python3 / python on PATH' };
}

interface PythonEnvironmentsApi {
	getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
	resolveEnvironment(path: string | { path: string }): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
}

async function pythonExtensionEnvironment(resource: vscode.Uri | undefined): Promise<string | undefined> {
	const ext = vscode.extensions.getExtension<{ environments?: PythonEnvironmentsApi }>('ms-python.python');
	if (!ext) {
		return undefined;
	}
	try {
		const api = ext.isActive ? ext.exports : await ext.activate();
		const envs = api?.environments;
		if (!envs) {
			return undefined;
		}
		const active = envs.getActiveEnvironmentPath(resource);
		const resolved = await envs.resolveEnvironment(active);
		return resolved?.executable?.uri?.fsPath ?? active.path;
	} catch {
		return undefined; // the extension is broken or still loading: fall back to PATH
	}
}
