// The app's first migration: the table it serves.
exports.getMigration = () => ({
  version: 1,
  description: 'Create notes',
  async up(knex) {
    await knex.schema.createTable('notes', (t) => {
      t.increments('id');
      t.string('text', 500).notNullable();
    });
  },
  async down(knex) {
    await knex.schema.dropTable('notes');
  },
});
