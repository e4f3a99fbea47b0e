/** Every command id in one place; package.json `contributes.commands` mirrors the public ones. */
export const enum CommandId {
	ShowPanel = 'poolscope.showPanel',
}

/** The view type of the pool panel; package.json activates on `onWebviewPanel:` + this. */
export const PANEL_VIEW_TYPE = 'poolscope.panel';
