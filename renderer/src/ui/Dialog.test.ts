import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { createRawSnippet } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Dialog from './Dialog.svelte';

const body = (html: string) => createRawSnippet(() => ({ render: () => html }));

/** A button that opens the dialog (the opener), and the dialog, closed at first. */
function setup(
  html = '<div><p>Text first</p><input aria-label="Name" /></div>',
  extra: { cancelLabel?: string; focusCancel?: boolean; actions?: ReturnType<typeof body> } = {},
) {
  const opener = document.createElement('button');
  opener.textContent = 'Open';
  document.body.append(opener);
  const onclose = vi.fn();
  const props = { open: false, title: 'Rename project', onclose, children: body(html), ...extra };
  const r = render(Dialog, { props });
  onclose.mockImplementation(() => r.rerender({ ...props, open: false }));
  return {
    opener,
    onclose,
    open: async () => {
      opener.focus();
      await r.rerender({ ...props, open: true });
    },
  };
}

describe('Dialog', () => {
  afterEach(() => document.body.replaceChildren());

  it('opens as a named dialog and moves focus to its first control', async () => {
    const d = setup();
    await d.open();
    const dialog = screen.getByRole('dialog', { name: 'Rename project' }) as HTMLDialogElement;
    expect(dialog.open).toBe(true);
    expect(document.activeElement).toBe(screen.getByLabelText('Name'));
  });

  it('focuses the autofocus control when there is one', async () => {
    const d = setup('<div><button>First</button><input aria-label="Name" autofocus /></div>');
    await d.open();
    expect(document.activeElement).toBe(screen.getByLabelText('Name'));
  });

  it('closes on Escape and gives focus back to the opener', async () => {
    const d = setup();
    await d.open();
    await userEvent.setup().keyboard('{Escape}');
    expect(d.onclose).toHaveBeenCalledTimes(1);
    await vi.waitFor(() =>
      expect((screen.getByRole('dialog', { hidden: true }) as HTMLDialogElement).open).toBe(false),
    );
    expect(document.activeElement).toBe(d.opener);
  });

  it('closes with its Close button and gives focus back', async () => {
    const d = setup();
    await d.open();
    await userEvent.setup().click(screen.getByRole('button', { name: 'Close' }));
    expect(d.onclose).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(document.activeElement).toBe(d.opener));
  });

  it('a destructive dialog says Cancel and opens with focus on it, so Enter does not confirm', async () => {
    const confirm = vi.fn();
    // A control in the body too: the first focusable one would otherwise take focus.
    const d = setup(
      '<div><p>Delete <strong>Birds</strong>?</p><input type="checkbox" aria-label="Keep files" /></div>',
      {
        cancelLabel: 'Cancel',
        focusCancel: true,
        actions: createRawSnippet(() => ({
          render: () => '<button type="button">Delete project</button>',
          setup: (el) => el.addEventListener('click', confirm),
        })),
      },
    );
    await d.open();
    const cancel = screen.getByRole('button', { name: 'Cancel' });
    expect(document.activeElement).toBe(cancel);
    expect(screen.queryByRole('button', { name: 'Close' })).toBeNull();
    const user = userEvent.setup();
    await user.keyboard('{Enter}');
    expect(confirm).not.toHaveBeenCalled();
    expect(d.onclose).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(document.activeElement).toBe(d.opener));
  });

  it('a destructive dialog closes on Escape without confirming and gives focus back', async () => {
    const confirm = vi.fn();
    const d = setup('<p>Delete?</p>', {
      cancelLabel: 'Cancel',
      focusCancel: true,
      actions: createRawSnippet(() => ({
        render: () => '<button type="button">Delete project</button>',
        setup: (el) => el.addEventListener('click', confirm),
      })),
    });
    await d.open();
    await userEvent.setup().keyboard('{Escape}');
    expect(d.onclose).toHaveBeenCalledTimes(1);
    expect(confirm).not.toHaveBeenCalled();
    await vi.waitFor(() => expect(document.activeElement).toBe(d.opener));
  });
});
