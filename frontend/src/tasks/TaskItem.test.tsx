// One task row: the accessible names the end-to-end tests rely on, and in-place editing.
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { Router } from 'wouter';
import { memoryLocation } from 'wouter/memory-location';
import type { ViewTask } from '../offline/overlay';
import { makeTask } from '../test/fakeServer';
import { TaskItem } from './TaskItem';

function setup(overrides: Partial<ViewTask> = {}, editing = false) {
  const task: ViewTask = { ...makeTask({ title: 'Buy milk' }), pending: false, ...overrides };
  const handlers = {
    onToggle: vi.fn(),
    onStartEdit: vi.fn(),
    onStopEdit: vi.fn(),
    onRename: vi.fn(),
    onDelete: vi.fn(),
  };
  const ui = (isEditing: boolean) => (
    <Router hook={memoryLocation({ path: '/tasks' }).hook}>
      <ul>
        <TaskItem task={task} itemKey={task.id} editing={isEditing} {...handlers} />
      </ul>
    </Router>
  );
  const result = render(ui(editing));
  return { task, handlers, rerender: (isEditing: boolean) => result.rerender(ui(isEditing)) };
}

describe('TaskItem', () => {
  it('is a list item with "Complete", "Edit" and "Delete" controls named after the task', () => {
    setup();

    expect(screen.getByRole('listitem')).toBeInTheDocument();
    expect(screen.getByRole('checkbox', { name: 'Complete Buy milk' })).not.toBeChecked();
    expect(screen.getByRole('button', { name: 'Edit Buy milk' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Delete Buy milk' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Buy milk' })).toHaveAttribute('href', expect.stringContaining('/tasks/'));
  });

  it('completes with one click', async () => {
    const { task, handlers } = setup();

    await userEvent.click(screen.getByRole('checkbox', { name: 'Complete Buy milk' }));

    expect(handlers.onToggle).toHaveBeenCalledWith(task);
  });

  it('shows a done task as checked', () => {
    setup({ status: 'done' });
    expect(screen.getByRole('checkbox', { name: 'Complete Buy milk' })).toBeChecked();
  });

  it('asks to edit, and edits the title in place: Enter saves', async () => {
    const { task, handlers, rerender } = setup();
    await userEvent.click(screen.getByRole('button', { name: 'Edit Buy milk' }));
    expect(handlers.onStartEdit).toHaveBeenCalledWith(task.id);

    rerender(true);
    const input = screen.getByRole('textbox', { name: 'Title' });
    expect(input).toHaveFocus();
    await userEvent.clear(input);
    await userEvent.type(input, 'Buy oat milk{Enter}');

    expect(handlers.onRename).toHaveBeenCalledWith(task, 'Buy oat milk');
    expect(handlers.onStopEdit).toHaveBeenCalledOnce();
    rerender(false);
    expect(screen.getByRole('button', { name: 'Edit Buy milk' })).toHaveFocus();
  });

  it('Escape cancels the edit', async () => {
    const { handlers } = setup({}, true);

    await userEvent.type(screen.getByRole('textbox', { name: 'Title' }), ' changed{Escape}');

    expect(handlers.onRename).not.toHaveBeenCalled();
    expect(handlers.onStopEdit).toHaveBeenCalledOnce();
  });

  it('does not save an empty title', async () => {
    const { handlers } = setup({}, true);

    await userEvent.clear(screen.getByRole('textbox', { name: 'Title' }));
    await userEvent.keyboard('{Enter}');

    expect(handlers.onRename).not.toHaveBeenCalled();
  });

  it('deletes', async () => {
    const { task, handlers } = setup();
    await userEvent.click(screen.getByRole('button', { name: 'Delete Buy milk' }));
    expect(handlers.onDelete).toHaveBeenCalledWith(task);
  });

  it('marks a task whose change is not synced yet', () => {
    setup({ pending: true });
    expect(screen.getByText('Not synced')).toBeInTheDocument();
  });
});
