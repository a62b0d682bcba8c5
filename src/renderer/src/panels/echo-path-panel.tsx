/** Placeholder: being built (issue 6/7); renders nothing yet. */
export function EchoPathPanel() {
  return null
}
