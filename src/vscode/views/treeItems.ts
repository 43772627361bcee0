// The one mapping from our plain view nodes to VS Code tree items (Provenance and Suspects views).
import * as vscode from 'vscode';

export interface PlainNode {
  id: string;
  kind: string;
  label: string;
  description?: string;
  tooltip?: string | vscode.MarkdownString;
  icon?: vscode.ThemeIcon;
  resourceUri?: vscode.Uri;
  command?: vscode.Command;
}

export function treeItemOf(node: PlainNode, state: vscode.TreeItemCollapsibleState): vscode.TreeItem {
  const item = new vscode.TreeItem(node.label, state);
  item.id = node.id;
  item.description = node.description;
  item.tooltip = node.tooltip;
  item.iconPath = node.icon;
  item.resourceUri = node.resourceUri;
  item.command = node.command;
  item.contextValue = node.kind;
  return item;
}
