/** Every command id in one place; package.json `contributes.commands` mirrors them. */
export const enum CommandId {
	ShowPanel = 'poolscope.showPanel',
	RunThread = 'poolscope.runThread',
	RunProcess = 'poolscope.runProcess',
	RunSerial = 'poolscope.runSerial',
	Run = 'poolscope.run',
	RunDefault = 'poolscope.runDefault',
	CancelRun = 'poolscope.cancelRun',
	SetInputs = 'poolscope.setInputs',
	SelectPythonInterpreter = 'poolscope.selectPythonInterpreter',
	OpenSamples = 'poolscope.openSamples',
	Compare = 'poolscope.compare',
	Sweep = 'poolscope.sweep',
	SweepChunksize = 'poolscope.sweepChunksize',
	OpenFromHistory = 'poolscope.openFromHistory',
	CompareRuns = 'poolscope.compareRuns',
}

/** The view type of the pool panel; package.json activates on `onWebviewPanel:` + this. */
export const PANEL_VIEW_TYPE = 'poolscope.panel';
